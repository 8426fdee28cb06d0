DROP TABLE case_closures;
