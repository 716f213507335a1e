-- Version 45: add_visibility (PostgreSQL)
-- images.visibility (private, public, shared, community) replaces
-- images.is_public. Equals Glance's ocata_expand01 + ocata_migrate01 +
-- ocata_contract01 run as one offline step, in one transaction.
--
-- The fill follows ocata_migrate01, for every row, deleted ones included:
--   is_public true                                   -> public
--   otherwise, with an image_members row not deleted -> shared
--   otherwise                                        -> private
-- It is one set-based UPDATE (no per-row work), and is_public is dropped
-- only after every row has a visibility; NOT NULL proves it.

CREATE TYPE image_visibility AS ENUM ('private', 'public', 'shared', 'community');

ALTER TABLE images ADD COLUMN visibility image_visibility;

UPDATE images i
   SET visibility = CASE
         WHEN i.is_public THEN 'public'::image_visibility
         WHEN EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND NOT m.deleted) THEN 'shared'::image_visibility
         ELSE 'private'::image_visibility
       END;

ALTER TABLE images ALTER COLUMN visibility SET DEFAULT 'shared';
ALTER TABLE images ALTER COLUMN visibility SET NOT NULL;

CREATE INDEX visibility_image_idx ON images (visibility);

-- Dropping the column drops its index ix_images_is_public with it.
ALTER TABLE images DROP COLUMN is_public;
