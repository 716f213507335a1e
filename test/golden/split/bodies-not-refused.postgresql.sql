DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM images) THEN RAISE NOTICE 'empty'; END IF; END $$;
DO $body$
BEGIN
  COMMIT;
END
$body$;
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.visibility := 'shared';
  RETURN NEW;
END;
$$;
CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC UPDATE images SET name = 'x'; END;
COMMENT ON TABLE images IS 'begin; commit;';
LOCK TABLE images IN SHARE ROW EXCLUSIVE MODE;
SET LOCAL lock_timeout = '1s';
SET search_path TO public;
SELECT 'autocommit = 0';
