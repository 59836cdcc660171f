"""What the tests need besides the code under test (servers, helpers, a browser)."""
