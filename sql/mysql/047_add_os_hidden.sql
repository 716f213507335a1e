-- Version 47: add_os_hidden (MySQL/MariaDB)
-- images.os_hidden hides an image from the default image list.
-- Equals Glance's rocky_expand01 (rocky_contract01 is empty).

ALTER TABLE images
  ADD COLUMN os_hidden tinyint(1) NOT NULL DEFAULT 0,
  ADD INDEX os_hidden_image_idx (os_hidden);
