# virtdeck: `make run` serves the whole app on embedded defaults; `make test` runs the whole suite.
PY := .venv/bin/python

.PHONY: run test setup lab-up lab-down bench clean

setup:
	@scripts/setup.sh

run: setup
	@$(PY) scripts/run.py

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

lab-up: setup
	@lab/up

lab-down:
	@lab/down

bench: setup
	@$(PY) bench/inventory.py
	@$(PY) bench/instances.py

clean:
	rm -rf var/test static/vendor node_modules
