-- Version 48: add_os_hash (PostgreSQL)
-- Multihash: the algorithm and value of the image data's secure hash.
-- Equals Glance's rocky_expand02 (rocky_contract02 is empty).

ALTER TABLE images ADD COLUMN os_hash_algo character varying(64);
ALTER TABLE images ADD COLUMN os_hash_value character varying(128);
CREATE INDEX os_hash_value_image_idx ON images (os_hash_value);
