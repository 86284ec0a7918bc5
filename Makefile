# virtdeck: `make run` serves the whole app on embedded defaults; `make test` runs the whole suite.
PY := .venv/bin/python

.PHONY: run test test-postgres setup lab-up lab-down bench clean

setup:
	@scripts/setup.sh

run: setup
	@$(PY) scripts/run.py

# The whole suite on SQLite, then the `postgres`-marked subset (lists, counts, syncs, jobs) again on a private
# PostgreSQL that the suite starts and stops itself (conftest.postgres_server).
POSTGRES_TESTS := -m "postgres and not lab and not browser and not worker"

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)
	@VIRTDECK_TEST_DATABASE=postgresql $(PY) -m pytest $(POSTGRES_TESTS) $(PYTEST_ARGS)

test-postgres: setup
	@VIRTDECK_TEST_DATABASE=postgresql $(PY) -m pytest $(POSTGRES_TESTS) $(PYTEST_ARGS)

lab-up: setup
	@lab/up

lab-down:
	@lab/down

bench: setup
	@$(PY) bench/inventory.py
	@$(PY) bench/instances.py

clean:
	rm -rf var/test static/vendor node_modules
