"""Voting from a phone (issue 17): invitations with a code and a QR link, the public voting
page at `/vote`, and the urn that appends web ballots in shuffled batches so that nobody who
holds the log can pair a ballot with its rater. See docs/ballot-secrecy.md."""
