-- Version 45, contract phase (SQLite): Glance's ocata_contract01. Runs only
-- when no old glance-api is left and the migrate phase is complete.
--
-- First the check Glance's contract makes (has_migrations: a `private`
-- image with an image_members row not deleted is still to migrate) done
-- instead of refused: an old glance-api may have shared such an image after
-- its row was migrated. Then the triggers go, then is_public and its index,
-- and visibility becomes NOT NULL DEFAULT 'shared'. SQLite cannot change
-- nullability in place, and a rebuild here would have to name every column
-- that later versions' expand files already added (os_hidden, os_hash_*),
-- so visibility is moved into a new column with the final definition
-- instead; a NULL left behind fails the copy (NOT NULL) and nothing changes.

UPDATE images SET visibility = 'shared'
 WHERE visibility = 'private'
   AND id IN (SELECT image_id FROM image_members WHERE deleted = 0);

DROP TRIGGER insert_visibility;
DROP TRIGGER update_visibility;

DROP INDEX ix_images_is_public;
ALTER TABLE images DROP COLUMN is_public;

DROP INDEX visibility_image_idx;
ALTER TABLE images ADD COLUMN visibility_v45 VARCHAR(9) DEFAULT 'shared' NOT NULL;
UPDATE images SET visibility_v45 = visibility;
ALTER TABLE images DROP COLUMN visibility;
ALTER TABLE images RENAME COLUMN visibility_v45 TO visibility;
CREATE INDEX visibility_image_idx ON images (visibility);
