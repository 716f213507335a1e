-- Version 48: add_os_hash (MySQL/MariaDB)
-- Multihash: the algorithm and value of the image data's secure hash.
-- Equals Glance's rocky_expand02 (rocky_contract02 is empty).

ALTER TABLE images
  ADD COLUMN os_hash_algo varchar(64) DEFAULT NULL,
  ADD COLUMN os_hash_value varchar(128) DEFAULT NULL,
  ADD INDEX os_hash_value_image_idx (os_hash_value);
