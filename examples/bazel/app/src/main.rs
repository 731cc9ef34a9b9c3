fn main() {
    let text = "one\ntwo\nthree\n";
    println!("{}", greet::greeting("seedwrap", greet::count_lines(text)));
    match memchr::memchr(b't', text.as_bytes()) {
        Some(i) => println!("first t at {i}"),
        None => println!("no t"),
    }
    let words = regex::Regex::new(r"(?m)^t\w+$").unwrap();
    println!("{} words start with t", words.find_iter(text).count());
}
