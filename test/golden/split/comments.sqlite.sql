-- leading comment; with semicolon
CREATE TABLE t (id INT); -- trailing; comment
/* block; comment */ INSERT INTO t VALUES (1);
