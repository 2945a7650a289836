## Reference REML/ML fits from lme4 for the project's crossed random-effects
## model. Reads the committed data files in tests/reference/lme4/*.csv.gz
## (written by export_data.R) and writes one JSON file per dataset next to
## them. Python tests compare against these files and never need R.
##
## Run from the repository root:
##   Rscript benchmarks/lme4/make_reference.R            # all datasets
##   Rscript benchmarks/lme4/make_reference.R penicillin # just some
##
## Numbers are written in the shortest decimal form that round-trips to the
## same IEEE double (15, 16 or 17 significant digits).

suppressPackageStartupMessages({
  library(lme4)
})

ref_dir <- "tests/reference/lme4"
args <- commandArgs(trailingOnly = TRUE)

## ---------------------------------------------------------------- JSON ----
## A small serializer so that doubles keep full precision (jsonlite caps at
## 15 significant digits). Named lists -> objects, unnamed lists / vectors of
## length != 1 -> arrays, length-1 atomic vectors -> scalars (wrap in I() or
## as.list() to force an array). NA/NaN/Inf -> null.
num_str <- function(x) {
  out <- character(length(x))
  for (i in seq_along(x)) {
    v <- x[[i]]
    if (is.na(v) || !is.finite(v)) { out[i] <- "null"; next }
    if (v == round(v) && abs(v) < 1e15) { out[i] <- format(v, scientific = FALSE); next }
    for (d in 15:17) {
      s <- sprintf(paste0("%.", d, "g"), v)
      if (as.numeric(s) == v) break
    }
    out[i] <- s
  }
  out
}
str_json <- function(x) {
  x <- enc2utf8(x)
  x <- gsub("\\", "\\\\", x, fixed = TRUE)
  x <- gsub("\"", "\\\"", x, fixed = TRUE)
  x <- gsub("\n", "\\n", x, fixed = TRUE)
  x <- gsub("\t", "\\t", x, fixed = TRUE)
  ifelse(is.na(x), "null", paste0("\"", x, "\""))
}
to_json <- function(x, indent = 0L, compact_depth = Inf) {
  pad <- strrep("  ", indent)
  pad1 <- strrep("  ", indent + 1L)
  compact <- indent >= compact_depth
  sep <- if (compact) ", " else paste0(",\n", pad1)
  open_nl <- if (compact) "" else paste0("\n", pad1)
  close_nl <- if (compact) "" else paste0("\n", pad)
  if (is.null(x)) return("null")
  if (is.factor(x)) x <- as.character(x)
  if (is.list(x)) {
    if (length(x) == 0) return(if (inherits(x, "json_object")) "{}" else "[]")
    items <- vapply(x, to_json, "", indent = indent + 1L, compact_depth = compact_depth)
    if (!is.null(names(x))) {
      items <- paste0(str_json(names(x)), ": ", items)
      return(paste0("{", open_nl, paste(items, collapse = sep), close_nl, "}"))
    }
    return(paste0("[", open_nl, paste(items, collapse = sep), close_nl, "]"))
  }
  vals <- if (is.character(x)) str_json(x)
          else if (is.logical(x)) ifelse(is.na(x), "null", ifelse(x, "true", "false"))
          else num_str(as.numeric(x))
  if (length(x) == 1 && !inherits(x, "AsIs")) return(vals)
  paste0("[", paste(vals, collapse = ", "), "]")
}
named_num <- function(v) { l <- as.list(unname(as.numeric(v))); names(l) <- names(v); l }

## ------------------------------------------------------------- session ----
sha256 <- function(path) strsplit(system2("sha256sum", path, stdout = TRUE), " +")[[1]][1]
si <- sessionInfo()
session <- list(
  R_version = R.version.string,
  platform = R.version$platform,
  running = si$running,
  lme4 = as.character(packageVersion("lme4")),
  Matrix = as.character(packageVersion("Matrix")),
  minqa = as.character(packageVersion("minqa")),
  BLAS = si$BLAS,
  LAPACK = si$LAPACK,
  collate_locale = Sys.getlocale("LC_COLLATE"),
  date = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z")
)

ctrl_list <- list(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5, rhoend = 1e-10))
ctrl <- lmerControl(optimizer = ctrl_list$optimizer, optCtrl = ctrl_list$optCtrl,
                    calc.derivs = TRUE)

## Factors with levels in byte (C-locale) order of their labels, which is
## also Python's sorted() order for these ASCII labels.
as_fac <- function(x) { x <- as.character(x); factor(x, levels = sort(unique(x), method = "radix")) }

read_ref <- function(file, factors) {
  cc <- setNames(rep("character", length(factors)), factors)
  df <- read.csv(file.path(ref_dir, file), colClasses = cc)
  for (f in factors) df[[f]] <- as_fac(df[[f]])
  df
}

## --------------------------------------------------------------- fits -----
fit_one <- function(formula, data, REML) {
  warns <- character(0)
  tm <- system.time(
    fit <- withCallingHandlers(
      lmer(formula, data = data, REML = REML, control = ctrl),
      warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") },
      message = function(m) { warns <<- c(warns, conditionMessage(m)); invokeRestart("muffleMessage") }
    )
  )
  vc <- as.data.frame(VarCorr(fit))
  varcomp <- list(); sdcomp <- list()
  for (i in seq_len(nrow(vc))) {
    g <- if (vc$grp[i] == "Residual") "residual" else vc$grp[i]
    varcomp[[g]] <- vc$vcov[i]; sdcomp[[g]] <- vc$sdcor[i]
  }
  beta <- fixef(fit)
  V <- as.matrix(vcov(fit))
  se <- sqrt(diag(V))
  fixef_list <- lapply(seq_along(beta), function(i)
    list(name = names(beta)[i], estimate = unname(beta[i]), se = unname(se[i]),
         t = unname(beta[i] / se[i])))
  ## contrasts of the factors in the fixed-effects part
  X <- getME(fit, "X")
  ctr <- attr(X, "contrasts")
  contrasts <- structure(list(), class = "json_object")
  for (f in names(ctr)) {
    lv <- levels(data[[f]])
    contrasts <- unclass(contrasts)
    contrasts[[f]] <- list(contrast = if (is.character(ctr[[f]])) ctr[[f]] else "custom",
                           levels = I(lv), reference = lv[1])
  }
  re <- ranef(fit, condVar = TRUE)
  ranef_list <- list()
  for (g in names(re)) {
    pv <- attr(re[[g]], "postVar")
    modes <- re[[g]][["(Intercept)"]]
    sds <- sqrt(pv[1, 1, ])
    lv <- rownames(re[[g]])
    ranef_list[[g]] <- lapply(seq_along(lv), function(i)
      list(level = lv[i], mode = modes[i], sd = sds[i]))
  }
  dc <- getME(fit, "devcomp")
  theta <- getME(fit, "theta")
  ll <- logLik(fit)
  ## independent check of the optimum: restart nlminb on the same profiled
  ## criterion from lme4's theta and see whether it finds anything lower
  lf <- lFormula(formula, data = data, REML = REML)
  devfun <- do.call(mkLmerDevfun, lf)
  crit_fit <- devfun(unname(theta))
  chk <- nlminb(unname(theta), devfun, lower = lf$reTrms$lower,
                control = list(rel.tol = 1e-14, x.tol = 1e-12, eval.max = 2000, iter.max = 1000))
  opt <- fit@optinfo
  list(
    method = if (REML) "REML" else "ML",
    formula = paste(deparse(formula, width.cutoff = 500L), collapse = " "),
    n = nobs(fit),
    ngrps = as.list(ngrps(fit)),
    varcomp = varcomp,
    sd = sdcomp,
    sigma = sigma(fit),
    theta = named_num(theta),
    fixef = fixef_list,
    vcov_fixef = list(names = I(colnames(V)), matrix = lapply(seq_len(nrow(V)), function(i) I(unname(V[i, ])))),
    contrasts = contrasts,
    REMLcrit = if (REML) REMLcrit(fit) else NULL,
    deviance = if (REML) NULL else deviance(fit),
    deviance_at_fit_ML = deviance(fit, REML = FALSE),
    logLik = as.numeric(ll),
    logLik_df = attr(ll, "df"),
    AIC = AIC(fit), BIC = BIC(fit),
    devcomp = list(cmp = named_num(dc$cmp), dims = named_num(dc$dims)),
    optimizer = list(
      name = opt$optimizer, control = ctrl_list$optCtrl, feval = opt$feval,
      conv_opt = opt$conv$opt, message = opt$message,
      lme4_messages = I(as.character(unlist(opt$conv$lme4$messages))),
      warnings = I(warns),
      gradient = if (!is.null(opt$derivs)) I(as.numeric(opt$derivs$gradient)) else NULL,
      singular = isSingular(fit)
    ),
    optimum_check = list(
      method = "nlminb restarted from lme4's theta on mkLmerDevfun",
      crit_at_lme4_theta = crit_fit, crit_nlminb = chk$objective,
      improvement = crit_fit - chk$objective,
      theta_nlminb = I(chk$par), max_abs_theta_diff = max(abs(chk$par - theta))
    ),
    seconds_fit = unname(tm["elapsed"]),
    ranef = ranef_list
  )
}

run_dataset <- function(name, file, factors, models) {
  data <- read_ref(file, factors)
  out <- list(
    dataset = name,
    generated_by = "benchmarks/lme4/make_reference.R",
    command = "Rscript benchmarks/lme4/make_reference.R (from the repository root)",
    data_file = file,
    data_sha256 = sha256(file.path(ref_dir, file)),
    n_rows = nrow(data),
    factor_levels_order = "byte order (C locale) of the labels; first level is the treatment-contrast reference",
    condsd_definition = "sqrt(attr(ranef(fit, condVar=TRUE)[[g]], 'postVar')[1,1,]) -- conditional SD given theta, beta, sigma",
    session = session,
    control = ctrl_list,
    models = list()
  )
  for (m in names(models)) {
    fm <- models[[m]]
    cat(sprintf("[%s/%s] %s\n", name, m, deparse(fm)))
    res <- list(formula = paste(deparse(fm, width.cutoff = 500L), collapse = " "))
    for (meth in c("reml", "ml")) {
      r <- fit_one(fm, data, REML = (meth == "reml"))
      cat(sprintf("  %-4s %6.2fs feval=%d crit=%.10f  varcomp: %s  fixef[1]=%.8f  warnings=%d  check.improvement=%.3g\n",
                  meth, r$seconds_fit, r$optimizer$feval,
                  if (meth == "reml") r$REMLcrit else r$deviance,
                  paste(sprintf("%s=%.8g", names(r$varcomp), unlist(r$varcomp)), collapse = " "),
                  r$fixef[[1]]$estimate, length(r$optimizer$warnings) + length(r$optimizer$lme4_messages),
                  r$optimum_check$improvement))
      res[[meth]] <- r
    }
    out$models[[m]] <- res
  }
  path <- file.path(ref_dir, paste0(name, ".json"))
  ## each ranef level {level, mode, sd} (nesting depth 6) on one line
  writeLines(to_json(out, compact_depth = 6L), path)
  cat(sprintf("wrote %s\n", path))
  invisible(out)
}

datasets <- list(
  penicillin = list(file = "penicillin.csv.gz", factors = c("plate", "sample"),
                    models = list(crossed = diameter ~ 1 + (1 | plate) + (1 | sample))),
  insteval = list(file = "insteval.csv.gz",
                  factors = c("s", "d", "dept", "service", "studage", "lectage", "dept_service"),
                  models = list(
                    crossed = y ~ service + (1 | s) + (1 | d),
                    classic = y ~ service + (1 | s) + (1 | d) + (1 | dept_service))),
  pastes = list(file = "pastes.csv.gz", factors = c("batch", "cask", "sample"),
                models = list(nested = strength ~ 1 + (1 | batch) + (1 | sample))),
  sample360 = list(file = "sample360.csv.gz",
                   factors = c("period", "ratee_id", "rater_id", "rater_role", "aspect"),
                   models = list(crossed = score ~ aspect + rater_role + (1 | ratee_id) + (1 | rater_id)))
)

todo <- if (length(args)) args else names(datasets)
for (nm in todo) {
  d <- datasets[[nm]]
  if (is.null(d)) stop("unknown dataset: ", nm)
  run_dataset(nm, d$file, d$factors, d$models)
}
