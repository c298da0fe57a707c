"""Minimal Scrapy spider for the crawl benchmark (bench/crawl): fetches every URL of a list file
(one per line, repeats allowed), no parsing, and writes its own timing to a JSON file.

    /usr/bin/python3 -m scrapy runspider bench/crawl/spider.py -a urls=URLS.txt -a out=RESULT.json \
        -s CONCURRENT_REQUESTS=4 -s CONCURRENT_REQUESTS_PER_DOMAIN=4
"""
import json
import time

import scrapy


class ListSpider(scrapy.Spider):
    name = "afterlife-bench"
    custom_settings = {
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "DOWNLOAD_DELAY": 0,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "RETRY_ENABLED": False,  # fetch each URL once, as the bare colly collector does
        "COOKIES_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True,  # every status is a response, as colly's ParseHTTPErrorResponse
        "USER_AGENT": "Afterlife-bench-scrapy",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",  # silences 2.8's deprecation warning
    }

    def __init__(self, urls, out, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.url_file = urls
        self.out = out
        self.responses = 0
        self.errors = 0
        self.started = None

    def start_requests(self):
        self.started = time.monotonic()
        with open(self.url_file) as f:
            for line in f:
                u = line.strip()
                if u:
                    yield scrapy.Request(u, callback=self.parse, errback=self.failed, dont_filter=True)

    def parse(self, response):
        self.responses += 1

    def failed(self, failure):
        self.errors += 1

    def closed(self, reason):
        secs = time.monotonic() - (self.started or time.monotonic())
        with open(self.out, "w") as f:
            json.dump({"responses": self.responses, "errors": self.errors, "seconds": secs, "reason": reason}, f)
