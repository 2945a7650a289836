## Export lme4's public crossed/nested datasets (and the project's sample 360
## feedback) as gzip-compressed CSV for R-free Python tests.
##
## Run from the repository root:
##   cd /tmp && /work/main/.venv/bin/workbench synth --out /tmp/sample1500 --employees 1500 --seed 11
##   Rscript benchmarks/lme4/export_data.R /tmp/sample1500/feedback_360.csv
##
## Writes tests/reference/lme4/{penicillin,insteval,pastes,sample360}.csv.gz.
## The gzip stream written by R's gzfile() carries no timestamp, so re-running
## with the same R/lme4/sample data reproduces byte-identical files.

suppressPackageStartupMessages(library(lme4))

args <- commandArgs(trailingOnly = TRUE)
feedback_csv <- if (length(args) >= 1) args[[1]] else "/tmp/sample1500/feedback_360.csv"
out_dir <- if (length(args) >= 2) args[[2]] else "tests/reference/lme4"
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

write_gz <- function(df, name) {
  path <- file.path(out_dir, name)
  con <- gzfile(path, "w", compression = 9)
  write.csv(df, con, row.names = FALSE)
  close(con)
  cat(sprintf("wrote %s (%d rows, %d cols)\n", path, nrow(df), ncol(df)))
}

## Factors are written as their labels (strings); numbers keep full precision
## (write.csv uses up to 15 significant digits; all these values are short).
fac2chr <- function(df) {
  for (nm in names(df)) if (is.factor(df[[nm]])) df[[nm]] <- as.character(df[[nm]])
  df
}

## Penicillin: 144 rows, 24 plates x 6 samples, fully crossed.
pen <- fac2chr(Penicillin[, c("diameter", "plate", "sample")])
stopifnot(nrow(pen) == 144)
write_gz(pen, "penicillin.csv.gz")

## InstEval: 73421 rows. dept_service = interaction(dept, service) as a
## string "dept.service" (e.g. "15.0"), the grouping factor of the classic
## model's (1 | dept:service) term.
ie <- InstEval[, c("y", "s", "d", "dept", "service", "studage", "lectage")]
ie$dept_service <- as.character(interaction(ie$dept, ie$service, drop = TRUE))
ie <- fac2chr(ie)
write_gz(ie, "insteval.csv.gz")

## Pastes: 60 rows; sample = batch:cask (30 levels) is nested in batch.
pa <- fac2chr(Pastes[, c("strength", "batch", "cask", "sample")])
write_gz(pa, "pastes.csv.gz")

## Sample 360 feedback from the project's generator; ids are 18-digit numbers
## and must stay text (they would lose digits as doubles).
fb <- read.csv(feedback_csv,
               colClasses = c(period = "character", ratee_id = "character",
                              rater_id = "character", rater_role = "character",
                              aspect = "character", score = "numeric"))
stopifnot(all(nchar(fb$ratee_id) == 18), all(nchar(fb$rater_id) == 18))
fb$score <- as.integer(fb$score)
write_gz(fb[, c("period", "ratee_id", "rater_id", "rater_role", "aspect", "score")],
         "sample360.csv.gz")
