-- Version 47: add_os_hidden (MySQL/MariaDB)
-- images.os_hidden hides an image from the default image list.
-- Equals Glance's rocky_expand01 (rocky_contract01 is empty).
--
-- Two ALTERs, not one (issue 31): MariaDB adds the column in place only
-- alone (ALGORITHM=INSTANT, a change of metadata); together with ADD INDEX
-- it rebuilds the whole table, and on Galera every other node's commits
-- wait under Total Order Isolation while it does. The index is then built
-- without copying the table (MariaDB would also accept ALGORITHM=NOCOPY
-- here, which MySQL does not know; INPLACE, LOCK=NONE is what both read).

ALTER TABLE images
  ADD COLUMN os_hidden tinyint(1) NOT NULL DEFAULT 0,
  ALGORITHM=INSTANT;

ALTER TABLE images
  ADD INDEX os_hidden_image_idx (os_hidden),
  ALGORITHM=INPLACE, LOCK=NONE;
