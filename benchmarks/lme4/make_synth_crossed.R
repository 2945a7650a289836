## Synthetic crossed ratings for scaling benchmarks (not committed data).
##
## Usage: Rscript benchmarks/lme4/make_synth_crossed.R N OUT.csv [SEED]
##
## Design ("local" crossing, like 360 feedback inside work units):
##   ratees = N/20, raters = N/200, teams of 100 ratees and 10 raters
##   (N/2000 teams); each rating picks a team at random, then a random
##   ratee and a random rater of that team (pairs may repeat).
##   y = 3 + 0.2*x + 0.5*u[ratee] + 0.3*v[rater] + e,  u, v, e, x ~ N(0, 1)
##   so the true variances are ratee 0.25, rater 0.09, residual 1.
## Columns: y, x, ratee, rater, team (ids are text like "R0001234").
## Fit with: y ~ x + (1|ratee) + (1|rater)
##
## A 4th argument "global" drops the teams instead: every rating is a random
## (ratee, rater) pair from the whole population (same numbers of ratees and
## raters). That design is far less sparse after fill-in and shows lme4's
## worst case; it is not what 360 feedback looks like.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript make_synth_crossed.R N OUT.csv [SEED]")
n <- as.numeric(args[[1]])
out <- args[[2]]
seed <- if (length(args) >= 3) as.integer(args[[3]]) else 1L
design <- if (length(args) >= 4) args[[4]] else "teams"
if (!design %in% c("teams", "global")) stop("design must be 'teams' or 'global'")
set.seed(seed)

ratees_per_team <- 100L
raters_per_team <- 10L
n_team <- max(1L, as.integer(round(n / 2000)))
n_ratee <- n_team * ratees_per_team
n_rater <- n_team * raters_per_team
n <- as.integer(n)
if (design == "global") {
  ratees_per_team <- n_ratee
  raters_per_team <- n_rater
  n_team <- 1L
}

team <- sample.int(n_team, n, replace = TRUE)
ratee <- (team - 1L) * ratees_per_team + sample.int(ratees_per_team, n, replace = TRUE)
rater <- (team - 1L) * raters_per_team + sample.int(raters_per_team, n, replace = TRUE)
u <- rnorm(n_ratee)
v <- rnorm(n_rater)
x <- rnorm(n)
y <- 3 + 0.2 * x + 0.5 * u[ratee] + 0.3 * v[rater] + rnorm(n)

df <- data.frame(
  y = round(y, 6), x = round(x, 6),
  ratee = sprintf("E%07d", ratee), rater = sprintf("R%07d", rater),
  team = sprintf("T%05d", team)
)
write.csv(df, out, row.names = FALSE)
cat(sprintf("wrote %s (%s): n=%d ratees=%d raters=%d teams=%d (used ratees %d, raters %d)\n",
            out, design, n, n_ratee, n_rater, n_team, length(unique(ratee)), length(unique(rater))))
