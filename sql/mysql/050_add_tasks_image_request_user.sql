-- Version 50: add_tasks_image_request_user (MySQL/MariaDB)
-- tasks.image_id, request_id and user_id, so a task can be traced to its
-- image, request and user. Equals Glance's wallaby_expand01
-- (wallaby_contract01 and xena..2023_1 are empty).
--
-- Columns and index in two ALTERs, as in 47 (issue 31): the columns
-- instantly, then the index without a table rebuild.

ALTER TABLE tasks
  ADD COLUMN image_id varchar(36) DEFAULT NULL,
  ADD COLUMN request_id varchar(64) DEFAULT NULL,
  ADD COLUMN user_id varchar(64) DEFAULT NULL,
  ALGORITHM=INSTANT;

ALTER TABLE tasks
  ADD INDEX ix_tasks_image_id (image_id),
  ALGORITHM=INPLACE, LOCK=NONE;
