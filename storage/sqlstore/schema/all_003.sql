-- Version 3, for every dialect: where a call came from and whether an
-- answer lacked it. no_country_code: 1 when Callyzer holds the number
-- without a country code (a refresh's query cannot return it);
-- missing_since: when an answer first lacked the call (NULL while listed).
ALTER TABLE {{prefix}}calls ADD COLUMN no_country_code {{int}} NULL;
ALTER TABLE {{prefix}}calls ADD COLUMN missing_since {{time}} NULL;
