CREATE PROCEDURE p()
BEGIN
  START TRANSACTION;
  UPDATE images SET name = 'x';
  COMMIT;
END;
CREATE DEFINER = CURRENT_USER TRIGGER t BEFORE INSERT ON images FOR EACH ROW
BEGIN
  IF NEW.is_public IS NULL THEN SET NEW.is_public = 0; END IF;
END;
SET NAMES utf8;
SET foreign_key_checks = 0, unique_checks = 0;
SET @x = 'autocommit = 1';
SET @autocommit_was = @@autocommit;
DO RELEASE_LOCK('glance');
/*!40101 SET NAMES utf8 */;
SELECT `commit`, `begin` FROM images;
