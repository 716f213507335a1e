-- Version 45: add_visibility (SQLite)
-- images.visibility (private, public, shared, community) replaces
-- images.is_public. Equals Glance's ocata_expand01 + ocata_migrate01 +
-- ocata_contract01 run as one offline step.
--
-- Glance's batch ALTER rebuilt the images table on SQLite, which dropped
-- its CHECK constraints and gave visibility the type VARCHAR(9); the same
-- rebuild is done here so the schema is exactly Glance's. The copy fills
-- visibility by the rule of ocata_migrate01, for every row, deleted ones
-- included, and is_public disappears only with the old table:
--   is_public true                                  -> public
--   otherwise, with an image_members row not deleted -> shared
--   otherwise                                       -> private
-- Foreign keys that point at images keep pointing at the rebuilt table
-- (SQLite resolves them by name; glance-db runs with foreign_keys off).
-- The shared images are found with one uncorrelated IN (SELECT ...), which
-- SQLite runs once: a correlated EXISTS let its planner pick the index on
-- image_members.deleted and scan every member for every image (hours for a
-- million images; see bench/).

CREATE TABLE images_v45 (
	id VARCHAR(36) NOT NULL,
	name VARCHAR(255),
	size INTEGER,
	status VARCHAR(30) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN NOT NULL,
	disk_format VARCHAR(20),
	container_format VARCHAR(20),
	checksum VARCHAR(32),
	owner VARCHAR(255),
	min_disk INTEGER NOT NULL,
	min_ram INTEGER NOT NULL,
	protected BOOLEAN DEFAULT 0 NOT NULL,
	virtual_size INTEGER,
	visibility VARCHAR(9) DEFAULT 'shared' NOT NULL,
	PRIMARY KEY (id)
);

INSERT INTO images_v45 (id, name, size, status, created_at, updated_at, deleted_at, deleted,
                        disk_format, container_format, checksum, owner, min_disk, min_ram,
                        protected, virtual_size, visibility)
SELECT i.id, i.name, i.size, i.status, i.created_at, i.updated_at, i.deleted_at, i.deleted,
       i.disk_format, i.container_format, i.checksum, i.owner, i.min_disk, i.min_ram,
       i.protected, i.virtual_size,
       CASE
         WHEN i.is_public = 1 THEN 'public'
         WHEN i.id IN (SELECT m.image_id FROM image_members m WHERE m.deleted = 0) THEN 'shared'
         ELSE 'private'
       END
  FROM images i;

DROP TABLE images;

ALTER TABLE images_v45 RENAME TO images;

CREATE INDEX checksum_image_idx ON images (checksum);
CREATE INDEX created_at_image_idx ON images (created_at);
CREATE INDEX ix_images_deleted ON images (deleted);
CREATE INDEX owner_image_idx ON images (owner);
CREATE INDEX updated_at_image_idx ON images (updated_at);
CREATE INDEX visibility_image_idx ON images (visibility);
