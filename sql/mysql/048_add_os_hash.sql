-- Version 48: add_os_hash (MySQL/MariaDB)
-- Multihash: the algorithm and value of the image data's secure hash.
-- Equals Glance's rocky_expand02 (rocky_contract02 is empty).
--
-- Columns and index in two ALTERs, as in 47 (issue 31): the columns
-- instantly, then the index without a table rebuild.

ALTER TABLE images
  ADD COLUMN os_hash_algo varchar(64) DEFAULT NULL,
  ADD COLUMN os_hash_value varchar(128) DEFAULT NULL,
  ALGORITHM=INSTANT;

ALTER TABLE images
  ADD INDEX os_hash_value_image_idx (os_hash_value),
  ALGORITHM=INPLACE, LOCK=NONE;
