/* outer /* inner; */ still comment; */ SELECT 1;
SELECT 2;
