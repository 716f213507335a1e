SELECT $body$ a; $inner$ b; $inner$ $body$;
SELECT 2;
