SELECT 'a;b';
SELECT 'it''s; fine';
