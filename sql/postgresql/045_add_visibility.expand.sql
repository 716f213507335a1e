-- Version 45, expand phase (PostgreSQL): Glance's ocata_expand01, plus the
-- compatibility triggers that let an old glance-api (writes is_public only)
-- and a new one (writes visibility only) share the images table until the
-- contract phase. Glance's own tool refuses PostgreSQL here; the triggers
-- are its MySQL triggers translated rule for rule.
--
-- images.visibility arrives nullable with no default (no table rewrite),
-- with its index; is_public loses NOT NULL (metadata only) so a new writer
-- may leave it out. Rows keep visibility NULL: the migrate phase fills it.

CREATE TYPE image_visibility AS ENUM ('private', 'public', 'shared', 'community');

ALTER TABLE images ADD COLUMN visibility image_visibility;

ALTER TABLE images ALTER COLUMN is_public DROP NOT NULL;

-- Every row's visibility is NULL yet: the build is one pass over the table.
CREATE INDEX visibility_image_idx ON images (visibility);

-- Glance's insert_visibility, in its order:
--   neither is_public nor visibility given (or both NULL): error
--   both given: error
--   is_public given: visibility = public if is_public else shared
--   visibility given: is_public = (visibility = public)
CREATE FUNCTION insert_visibility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.is_public IS NULL AND NEW.visibility IS NULL THEN
        RAISE EXCEPTION 'Invalid visibility value' USING ERRCODE = '45000';
    ELSIF NEW.is_public IS NOT NULL AND NEW.visibility IS NOT NULL THEN
        RAISE EXCEPTION 'Invalid visibility value' USING ERRCODE = '45000';
    ELSIF NEW.is_public IS NOT NULL THEN
        IF NEW.is_public THEN
            NEW.visibility := 'public';
        ELSE
            NEW.visibility := 'shared';
        END IF;
    ELSE
        NEW.is_public := NEW.visibility = 'public';
    END IF;
    RETURN NEW;
END
$$;

-- Glance's update_visibility:
--   is_public changed: error if now NULL or if visibility changed too,
--                      else visibility = public if is_public else shared
--   visibility changed: error if now NULL, else is_public = (visibility = public)
CREATE FUNCTION update_visibility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.is_public IS DISTINCT FROM OLD.is_public THEN
        IF NEW.is_public IS NULL THEN
            RAISE EXCEPTION 'Invalid visibility value' USING ERRCODE = '45000';
        ELSIF NEW.visibility IS DISTINCT FROM OLD.visibility THEN
            RAISE EXCEPTION 'Invalid visibility value' USING ERRCODE = '45000';
        ELSIF NEW.is_public THEN
            NEW.visibility := 'public';
        ELSE
            NEW.visibility := 'shared';
        END IF;
    ELSIF NEW.visibility IS DISTINCT FROM OLD.visibility THEN
        IF NEW.visibility IS NULL THEN
            RAISE EXCEPTION 'Invalid visibility value' USING ERRCODE = '45000';
        ELSE
            NEW.is_public := NEW.visibility = 'public';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER insert_visibility BEFORE INSERT ON images
    FOR EACH ROW EXECUTE PROCEDURE insert_visibility();

CREATE TRIGGER update_visibility BEFORE UPDATE ON images
    FOR EACH ROW EXECUTE PROCEDURE update_visibility();
