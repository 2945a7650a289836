## Time one lme4 fit and print ONE line of JSON on stdout (for a Python
## benchmark driver calling it through subprocess).
##
## Usage (from anywhere):
##   Rscript benchmarks/lme4/time_lmer.R DATA.csv[.gz] "y ~ x + (1|a) + (1|b)" [TRUE|FALSE] [options]
## Options:
##   --factors=col1,col2   extra columns to read as factors (grouping factors in
##                         the formula are always read as text -> factor)
##   --optimizer=NAME      lmer optimizer: bobyqa (default, maxfun 1e5, same as
##                         make_reference.R but lme4's default rhoend), or
##                         nloptwrap (lme4's own default), Nelder_Mead
##   --ranef               also compute ranef(condVar=TRUE), timed separately
##
## Output keys: seconds_read, seconds_fit, seconds_ranef (if --ranef),
## peak_rss_mb (VmHWM from /proc/self/status at exit, covers read + fit),
## theta, sigma, varcomp (variances per grouping factor + residual), fixef,
## n, ngrps, criterion (REMLcrit or deviance), feval, optimizer, messages,
## R_version, lme4_version.
## Data columns are read with read.csv (gz is detected automatically);
## character columns become factors with levels in C-locale byte order.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
opts <- grep("^--", args, value = TRUE)
pos <- args[!grepl("^--", args)]
if (length(pos) < 2) {
  stop("usage: Rscript time_lmer.R DATA.csv FORMULA [REML=TRUE] [--factors=a,b] [--optimizer=bobyqa] [--ranef]")
}
path <- pos[[1]]
formula <- as.formula(pos[[2]])
REML <- if (length(pos) >= 3) as.logical(toupper(pos[[3]])) else TRUE
if (is.na(REML)) stop("REML flag must be TRUE or FALSE")
opt_val <- function(name, default = NULL) {
  hit <- grep(paste0("^--", name, "="), opts, value = TRUE)
  if (length(hit)) sub(paste0("^--", name, "="), "", hit[[1]]) else default
}
extra_factors <- opt_val("factors", "")
extra_factors <- if (nzchar(extra_factors)) strsplit(extra_factors, ",")[[1]] else character(0)
optimizer <- opt_val("optimizer", "bobyqa")
do_ranef <- "--ranef" %in% opts

## grouping factors of the random-effects terms, e.g. a, b, and a:b -> a, b
bars <- findbars(formula)
grp_vars <- unique(unlist(lapply(bars, function(b) all.vars(b[[3]]))))
fac_vars <- unique(c(grp_vars, extra_factors))

tm_read <- system.time({
  header <- names(read.csv(path, nrows = 1, check.names = FALSE))
  cc <- setNames(rep(NA_character_, length(header)), header)
  cc[intersect(fac_vars, header)] <- "character"
  data <- read.csv(path, colClasses = cc, check.names = FALSE)
  for (nm in names(data)) {
    if (is.character(data[[nm]])) {
      x <- data[[nm]]
      data[[nm]] <- factor(x, levels = sort(unique(x), method = "radix"))
    }
  }
})

ctrl <- switch(optimizer,
  bobyqa = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)),
  nloptwrap = lmerControl(),
  lmerControl(optimizer = optimizer))

msgs <- character(0)
tm_fit <- system.time(
  fit <- withCallingHandlers(
    lmer(formula, data = data, REML = REML, control = ctrl),
    warning = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") }
  )
)
tm_ranef <- NULL
if (do_ranef) tm_ranef <- system.time(re <- ranef(fit, condVar = TRUE))

vmhwm_mb <- function() {
  st <- readLines("/proc/self/status")
  l <- grep("^VmHWM:", st, value = TRUE)
  if (!length(l)) return(NA_real_)
  as.numeric(gsub("[^0-9]", "", l)) / 1024  # kB -> MiB
}

vc <- as.data.frame(VarCorr(fit))
varcomp <- setNames(as.list(vc$vcov), ifelse(vc$grp == "Residual", "residual", vc$grp))
beta <- fixef(fit)
se <- sqrt(diag(as.matrix(vcov(fit))))
theta <- getME(fit, "theta")
out <- list(
  seconds_read = unname(tm_read["elapsed"]),
  seconds_fit = unname(tm_fit["elapsed"]),
  seconds_ranef = if (do_ranef) unname(tm_ranef["elapsed"]) else NULL,
  peak_rss_mb = vmhwm_mb(),
  n = nobs(fit),
  ngrps = as.list(ngrps(fit)),
  REML = REML,
  criterion = if (REML) REMLcrit(fit) else deviance(fit),
  theta = setNames(as.list(unname(theta)), names(theta)),
  sigma = sigma(fit),
  varcomp = varcomp,
  fixef = setNames(as.list(unname(beta)), names(beta)),
  fixef_se = setNames(as.list(unname(se)), names(beta)),
  optimizer = fit@optinfo$optimizer,
  feval = fit@optinfo$feval,
  messages = I(c(msgs, as.character(unlist(fit@optinfo$conv$lme4$messages)))),
  R_version = paste(R.version$major, R.version$minor, sep = "."),
  lme4_version = as.character(packageVersion("lme4"))
)
cat(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null"), "\n", sep = "")
