-- Version 47: add_os_hidden (PostgreSQL)
-- images.os_hidden hides an image from the default image list.
-- Equals Glance's rocky_expand01 (rocky_contract01 is empty).

ALTER TABLE images ADD COLUMN os_hidden boolean DEFAULT false NOT NULL;
CREATE INDEX os_hidden_image_idx ON images (os_hidden);
