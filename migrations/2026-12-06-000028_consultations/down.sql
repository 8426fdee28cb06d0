DROP TABLE consultation_answers;
DROP TABLE consultations;
