CREATE TABLE "we;ird" ([a;b] INT, `c;d` INT);
SELECT 1;
