package callhistory_test

// The account zone (Europe/Warsaw) must load on machines without a zone
// database: a test binary is a program, so it links the zone data in.
import _ "time/tzdata"
