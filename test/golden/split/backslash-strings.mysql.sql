SELECT 'a\';b';
SELECT "c;\"d";
