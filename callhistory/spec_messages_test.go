package callhistory_test

// The spec's Polish messages, verbatim, and ours where the spec leaves the
// wording open: the tests compare against the text itself.
const (
	msgUpdated      = "Historia połączeń została zaktualizowana"
	msgForbidden    = "Brak uprawnień do przeglądania historii połączeń"
	msgCallyzerAuth = "Błąd autoryzacji API Callyzer"
	msgTimeout      = "Przekroczono czas oczekiwania. Spróbuj ponownie."
	msgFailed       = "Wystąpił błąd podczas aktualizacji historii połączeń"
	msgLeadNotFound = "Nie znaleziono leada"
	msgInvalidPhone = "Nieprawidłowy format numeru telefonu leada"
	msgRateLimited  = "Callyzer chwilowo ogranicza liczbę zapytań. Spróbuj ponownie za chwilę."
)
