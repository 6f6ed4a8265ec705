import unittest


def parse_pair(text):
    key, _, value = text.partition("=")
    if not key:
        raise ValueError("no key in " + repr(text))
    return key.strip(), value.strip()


class ParsePairTest(unittest.TestCase):
    def test_plain(self):
        self.assertEqual(parse_pair("a = 1"), ("a", "1"))

    def test_no_value(self):
        self.assertEqual(parse_pair("flag"), ("flag", ""))

    def test_no_key(self):
        with self.assertRaises(ValueError):
            parse_pair("=1")

    @unittest.expectedFailure
    def test_known_bug(self):
        self.assertEqual(parse_pair("a==b"), ("a", "=b "))
