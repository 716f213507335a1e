-- Version 48: add_os_hash (SQLite)
-- Multihash: the algorithm and value of the image data's secure hash.
-- Equals Glance's rocky_expand02 (rocky_contract02 is empty).

ALTER TABLE images ADD COLUMN os_hash_algo VARCHAR(64);
ALTER TABLE images ADD COLUMN os_hash_value VARCHAR(128);
CREATE INDEX os_hash_value_image_idx ON images (os_hash_value);
