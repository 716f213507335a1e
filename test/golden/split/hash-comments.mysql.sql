# hash comment; here
SELECT 1; -- dash comment; here
SELECT 2;--not a comment in MySQL without a space
;
