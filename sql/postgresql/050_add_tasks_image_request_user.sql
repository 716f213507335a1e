-- Version 50: add_tasks_image_request_user (PostgreSQL)
-- tasks.image_id, request_id and user_id, so a task can be traced to its
-- image, request and user. Equals Glance's wallaby_expand01
-- (wallaby_contract01 and xena..2023_1 are empty).

ALTER TABLE tasks ADD COLUMN image_id character varying(36);
ALTER TABLE tasks ADD COLUMN request_id character varying(64);
ALTER TABLE tasks ADD COLUMN user_id character varying(64);
CREATE INDEX ix_tasks_image_id ON tasks (image_id);
