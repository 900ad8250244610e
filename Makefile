# The two commands: `make run` (set up, then run the whole app with embedded defaults) and
# `make test` (set up what is missing, then the whole suite).
.PHONY: run test setup bench

run:
	@bash scripts/setup.sh
	@.venv/bin/python manage.py runstack

test:
	@bash scripts/setup.sh --test
	@bash scripts/test.sh

setup:
	@bash scripts/setup.sh

bench:
	@bash scripts/setup.sh
	@.venv/bin/python bench/run.py
