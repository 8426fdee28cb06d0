-- The holder-period check is an integrity check, as a foreign key is: it reads the holder periods and the
-- case of the row just written, whoever wrote it, and says only yes or no. PostgreSQL runs foreign-key
-- checks as the table's owner, outside row-level security; this check now runs so too. Under the policies,
-- each of its two queries hashed every case of the municipality (the planner's choice while the tables'
-- statistics are young, as in a municipality's first import), so writing n cases cost n times the
-- municipality's cases. Its search path is fixed, as every function that runs as its owner needs.
ALTER FUNCTION check_holder_periods() SECURITY DEFINER SET search_path = public, pg_temp;
