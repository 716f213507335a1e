BEGIN IMMEDIATE;
begin exclusive transaction;
Begin Deferred;
END TRANSACTION;
end;
COMMIT TRANSACTION;
SAVEPOINT s1;
RELEASE s1;
RELEASE SAVEPOINT s1;
ROLLBACK TO SAVEPOINT s1;
ROLLBACK TRANSACTION TO s1;
/* a comment first */ COMMIT;
-- a line comment first
rollback;
