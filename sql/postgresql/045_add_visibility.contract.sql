-- Version 45, contract phase (PostgreSQL): Glance's ocata_contract01. Runs
-- only when no old glance-api is left and the migrate phase is complete.
--
-- First the check Glance's contract makes (has_migrations: a `private`
-- image with an image_members row not deleted is still to migrate) done
-- instead of refused: an old glance-api may have shared such an image after
-- its row was migrated. Then the triggers and their functions go,
-- visibility becomes NOT NULL DEFAULT 'shared' (a NULL left behind fails
-- here and the transaction changes nothing), and is_public goes, its index
-- ix_images_is_public with it.

UPDATE images SET visibility = 'shared'
 WHERE visibility = 'private'
   AND id IN (SELECT image_id FROM image_members WHERE NOT deleted);

DROP TRIGGER insert_visibility ON images;
DROP TRIGGER update_visibility ON images;
DROP FUNCTION insert_visibility();
DROP FUNCTION update_visibility();

ALTER TABLE images ALTER COLUMN visibility SET DEFAULT 'shared';
ALTER TABLE images ALTER COLUMN visibility SET NOT NULL;

ALTER TABLE images DROP COLUMN is_public;
