-- Version 45, contract phase (MySQL/MariaDB): Glance's ocata_contract01.
-- Runs only when no old glance-api is left and the migrate phase is
-- complete.
--
-- First the check Glance's contract makes (has_migrations: a `private`
-- image with an image_members row not deleted is still to migrate) done
-- instead of refused: an old glance-api may have shared such an image after
-- its row was migrated. Then the triggers go, before is_public (Glance drops
-- the column first, which leaves triggers naming a column that no longer
-- exists). Then one ALTER, one online rebuild: visibility NOT NULL DEFAULT
-- 'shared' (a NULL left behind fails it and nothing changes), is_public,
-- its index and its CHECK gone.

UPDATE images SET visibility = 'shared'
 WHERE visibility = 'private'
   AND id IN (SELECT image_id FROM image_members WHERE deleted = 0);

DROP TRIGGER insert_visibility;
DROP TRIGGER update_visibility;

ALTER TABLE images
  MODIFY visibility enum('private','public','shared','community') NOT NULL DEFAULT 'shared',
  DROP INDEX ix_images_is_public,
  DROP COLUMN is_public;
