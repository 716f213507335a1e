-- glance-db:report privateImagesWithMembers "private image(s) with live members, left private (their members see them once the owner shares them)" SELECT count(*) FROM images i WHERE i.visibility = 'private' AND i.deleted = 0 AND EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.deleted = 0)
-- Version 45, contract phase (SQLite): Glance's ocata_contract01. Runs only
-- when no old glance-api is left and the migrate phase is complete.
--
-- glance-db runs it only once no row still needs the migrate phase
-- (visibility NULL): until then contract refuses, with the count and the
-- command that finishes them, as Glance's contract refuses while
-- has_migrations. Unlike Glance (whose has_migrations, and migrate after
-- it, also turn every `private` image with a member row not deleted into
-- `shared`), it never rewrites a visibility: by now the new release writes
-- `private` on purpose, and making such an image `shared` would give its
-- members access again (issue 32; README "Rolling upgrade"). Such images are
-- only counted, for the operator (the report line above).
--
-- The triggers go, then is_public and its index, and visibility becomes
-- NOT NULL DEFAULT 'shared'. SQLite cannot change nullability in place, and
-- a rebuild here would have to name every column that later versions'
-- expand files already added (os_hidden, os_hash_*), so visibility is moved
-- into a new column with the final definition instead; a NULL left behind
-- fails the copy (NOT NULL) and nothing changes.

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
