CREATE TABLE "a;b" (x int);
SELECT 1;
