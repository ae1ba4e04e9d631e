"""The only package that speaks SQL: tables, the engine, and the queries the server needs."""
