CREATE TRIGGER t_ins AFTER INSERT ON images
BEGIN
  UPDATE images SET name = 'x' WHERE id = NEW.id;
  SELECT CASE WHEN NEW.size < 0 THEN RAISE(ABORT, 'negative size') END;
END;
CREATE TEMP TRIGGER t_upd BEFORE UPDATE ON images BEGIN SELECT RAISE(ROLLBACK, 'no'); END;
UPDATE images SET name = 'commit; rollback' WHERE name = 'begin';
ALTER TABLE images ADD COLUMN ended_at DATETIME;
SELECT "end" FROM images;
