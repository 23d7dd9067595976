# bash completion for s3db: commands, options, option values and resource names. The
# candidates come from the s3db being completed (`s3db __complete WORDS...`), so they follow
# its version; resource names are read from the database that --uri or $S3DB_URI names.
_s3db() {
  # The words from the line itself: COMP_WORDS splits "--uri file://d" at ':' as well.
  local line=${COMP_LINE:0:COMP_POINT}
  local -a words
  read -ra words <<<"$line"
  [[ -z $line || $line == *[[:space:]] ]] && words+=("")
  local IFS=$'\n'
  local -a candidates
  candidates=($("${words[0]}" __complete "${words[@]:1}" 2>/dev/null))
  if [[ ${candidates[0]-} == ":files" ]]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
  else
    COMPREPLY=("${candidates[@]}")
  fi
}
complete -F _s3db s3db
