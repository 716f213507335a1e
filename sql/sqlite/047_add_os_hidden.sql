-- Version 47: add_os_hidden (SQLite)
-- images.os_hidden hides an image from the default image list.
-- Equals Glance's rocky_expand01 (rocky_contract01 is empty).

ALTER TABLE images ADD COLUMN os_hidden BOOLEAN DEFAULT 0 NOT NULL;
CREATE INDEX os_hidden_image_idx ON images (os_hidden);
