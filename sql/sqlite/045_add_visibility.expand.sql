-- Version 45, expand phase (SQLite): Glance's ocata_expand01, plus the
-- compatibility triggers that let an old glance-api (writes is_public only)
-- and a new one (writes visibility only) share the images table until the
-- contract phase.
--
-- images.visibility arrives nullable with no default, and is_public loses
-- NOT NULL, so a new writer may leave it out. SQLite cannot change a
-- column's nullability in place, so images is rebuilt, as Glance's batch
-- ALTER did: same columns, is_public nullable, visibility VARCHAR(9) last,
-- no CHECK constraints (Glance's rebuild drops them, and version 45 has
-- none). Rows keep visibility NULL: the migrate phase fills it.
-- Foreign keys that point at images keep pointing at the rebuilt table
-- (SQLite resolves them by name; glance-db runs with foreign_keys off).

CREATE TABLE images_v45_expand (
	id VARCHAR(36) NOT NULL,
	name VARCHAR(255),
	size INTEGER,
	status VARCHAR(30) NOT NULL,
	is_public BOOLEAN,
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
	visibility VARCHAR(9),
	PRIMARY KEY (id)
);

INSERT INTO images_v45_expand (id, name, size, status, is_public, created_at, updated_at, deleted_at,
                               deleted, disk_format, container_format, checksum, owner, min_disk,
                               min_ram, protected, virtual_size)
SELECT id, name, size, status, is_public, created_at, updated_at, deleted_at,
       deleted, disk_format, container_format, checksum, owner, min_disk,
       min_ram, protected, virtual_size
  FROM images;

DROP TABLE images;

ALTER TABLE images_v45_expand RENAME TO images;

CREATE INDEX checksum_image_idx ON images (checksum);
CREATE INDEX created_at_image_idx ON images (created_at);
CREATE INDEX ix_images_deleted ON images (deleted);
CREATE INDEX ix_images_is_public ON images (is_public);
CREATE INDEX owner_image_idx ON images (owner);
CREATE INDEX updated_at_image_idx ON images (updated_at);
CREATE INDEX visibility_image_idx ON images (visibility);

-- The triggers follow Glance's MySQL triggers insert_visibility and
-- update_visibility (ocata_expand01) rule for rule:
--   insert with is_public only: visibility = public if is_public else shared
--   insert with visibility only: is_public = (visibility = public)
--   insert with both or neither: error 'Invalid visibility value'
--   update changing is_public:  visibility = public if is_public else shared
--                               (error if it becomes NULL or visibility
--                               changes in the same update)
--   update changing visibility: is_public = (visibility = public)
--                               (error if it becomes NULL)
-- SQLite triggers cannot assign NEW, so these run AFTER the row is written
-- and complete it with an UPDATE by primary key; RAISE(ABORT) in an AFTER
-- trigger still undoes the whole statement. The insert trigger's own
-- UPDATE fires update_visibility: OLD.is_public IS NULL marks that
-- completion of a just-inserted row (no stored row has is_public NULL
-- otherwise), which must not be taken for an old writer's change.

CREATE TRIGGER insert_visibility AFTER INSERT ON images
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Invalid visibility value')
     WHERE (NEW.is_public IS NULL) = (NEW.visibility IS NULL);
    UPDATE images
       SET visibility = CASE WHEN NEW.is_public = 1 THEN 'public' ELSE 'shared' END
     WHERE id = NEW.id AND NEW.visibility IS NULL;
    UPDATE images
       SET is_public = CASE WHEN NEW.visibility = 'public' THEN 1 ELSE 0 END
     WHERE id = NEW.id AND NEW.is_public IS NULL;
END;

CREATE TRIGGER update_visibility AFTER UPDATE ON images
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'Invalid visibility value')
     WHERE (OLD.is_public IS NOT NULL AND NEW.is_public IS NOT OLD.is_public
            AND (NEW.is_public IS NULL OR NEW.visibility IS NOT OLD.visibility))
        OR (NEW.visibility IS NULL AND OLD.visibility IS NOT NULL);
    UPDATE images
       SET visibility = CASE WHEN NEW.is_public = 1 THEN 'public' ELSE 'shared' END
     WHERE id = NEW.id AND OLD.is_public IS NOT NULL AND NEW.is_public IS NOT OLD.is_public;
    UPDATE images
       SET is_public = CASE WHEN NEW.visibility = 'public' THEN 1 ELSE 0 END
     WHERE id = NEW.id AND NEW.visibility IS NOT OLD.visibility AND NEW.is_public IS OLD.is_public
       AND is_public IS NOT (CASE WHEN NEW.visibility = 'public' THEN 1 ELSE 0 END);
END;
