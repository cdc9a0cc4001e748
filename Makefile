# Sparring. Two commands a user needs:
#   make run   start the server (embedded in-memory storage unless Redis is configured)
#   make test  install redis-server and chromium if missing, run vet, race tests
#              against both embedded and real Redis, and short fuzz runs
.PHONY: test run

# Fuzz targets run briefly by `make test`, as package:FuzzName. Add one line each.
FUZZ =
FUZZ += ./simulator/redisstore:FuzzAppendRoundTrip
FUZZ += ./web/protocol:FuzzDecode
FUZZ += ./scenarios:FuzzValidate
FUZZ += ./personas:FuzzValidate
FUZZ += ./simulator/rubric:FuzzAssess
FUZZTIME = 10s

test:
	FUZZ='$(FUZZ)' FUZZTIME='$(FUZZTIME)' ./scripts/test.sh

run:
	go run ./cmd/sparring

# make bench  standard load scenarios (idle, paced, burst, closed loop with the
#             --echo ceiling) against a private redis-server; writes
#             bench-results.md. Takes a few minutes; see docs/PERFORMANCE.md.
.PHONY: bench
bench:
	./scripts/bench.sh
