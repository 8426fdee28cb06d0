ALTER FUNCTION check_holder_periods() SECURITY INVOKER RESET search_path;
