-- Version 43: add_image_created_updated_idx (PostgreSQL)
-- Indexes on images.created_at and images.updated_at, which the API sorts
-- and filters by. Equals Glance's Alembic revision mitaka01.

CREATE INDEX created_at_image_idx ON images (created_at);
CREATE INDEX updated_at_image_idx ON images (updated_at);
