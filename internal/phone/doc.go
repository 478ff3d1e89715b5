// Package phone is the one place leadcalls reads, splits, converts and masks
// phone numbers.
//
// Normalize reads a number the way a lead's or Callyzer's number is read:
// libphonenumber's rules, no letters, no extension, a valid number, E.164
// out. Split, ToCallyzer and FromCallyzer handle E.164 and Callyzer's
// country-code-plus-number forms without calling libphonenumber's parser,
// so they are cheap enough for every request and every call row.
//
// Mask and MaskText hide numbers in logs and error texts with one rule: a
// mask shows at most the last three digits of a number (plus, for an E.164
// number, its country code and the first three national digits), and only
// while at least three other digits stay hidden. So "+48601234567" becomes
// "+48 601 *** 567", "+4930123456" "+49 *** 456", "601234567" "***567",
// and "12345" "***".
//
// # Errors
//
// Every refusal of Normalize matches ErrInvalid with errors.Is; its text
// gives the reason and never the input.
package phone
