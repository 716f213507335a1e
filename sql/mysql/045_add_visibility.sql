-- Version 45: add_visibility (MySQL/MariaDB)
-- images.visibility (private, public, shared, community) replaces
-- images.is_public. Equals Glance's ocata_expand01 + ocata_migrate01 +
-- ocata_contract01 run as one offline step.
--
-- MySQL commits each ALTER on its own, so the three statements are ordered
-- to be resumable one by one: the column exists before it is filled, and
-- is_public is dropped only after every row has a visibility (the
-- NOT NULL in the last statement proves it). The fill follows
-- ocata_migrate01, for every row, deleted ones included:
--   is_public true                                   -> public
--   otherwise, with an image_members row not deleted -> shared
--   otherwise                                        -> private

ALTER TABLE images ADD COLUMN visibility enum('private','public','shared','community') NULL;

UPDATE images
   SET visibility = CASE
         WHEN is_public = 1 THEN 'public'
         WHEN EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.deleted = 0) THEN 'shared'
         ELSE 'private'
       END;

-- One ALTER, one table rebuild. Dropping is_public drops its CHECK too.
ALTER TABLE images
  MODIFY visibility enum('private','public','shared','community') NOT NULL DEFAULT 'shared',
  ADD INDEX visibility_image_idx (visibility),
  DROP INDEX ix_images_is_public,
  DROP COLUMN is_public;
