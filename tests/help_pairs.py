"""Eight short help-page (query, page) pairs for the real fine-tune tests of the eval modules
(tests/unit/eval/test_anchor.py, test_query_side.py): each query answered by the page of the same index."""

QUERIES = ["change the wallpaper", "screenshots folder", "print two pages per sheet", "search history",
           "scan to pdf", "mute the volume", "connect to wifi", "rename a file"]
PAGES = ["Right-click the desktop and choose Change Background to pick a new wallpaper.",
         "Screenshots are saved in the Pictures folder under Screenshots.",
         "In the print dialog open Page Setup and set Pages per side to 2.",
         "Press Ctrl+R in the terminal and type a few letters to search the command history.",
         "Open Document Scanner, scan the pages and save them as a PDF file.",
         "Click the volume icon in the top bar and drag the slider to the left.",
         "Open the system menu, choose Wi-Fi, then pick your network and enter the password.",
         "Select the file, press F2, type the new name and press Enter."]
